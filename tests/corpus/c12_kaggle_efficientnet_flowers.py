#!/usr/bin/env python
# coding: utf-8

# # Flower classification with EfficientNetB0 (fine-tune everything)
# Kaggle notebook export. Data loading cells replaced with random arrays.

# In[1]:


import numpy as np
import tensorflow as tf
from tensorflow.keras.applications import EfficientNetB0
from tensorflow.keras.layers import Dense, Dropout, GlobalAveragePooling2D
from tensorflow.keras.models import Model
from tensorflow.keras.optimizers import Adam
from tensorflow.keras.callbacks import ReduceLROnPlateau, EarlyStopping, ModelCheckpoint
from tensorflow.keras.preprocessing.image import ImageDataGenerator

print(tf.__version__)


# In[2]:


IMG_SIZE = 224
NUM_CLASSES = 5
BS = 8
EPOCHS = 30

X = np.random.randint(0, 255, size=(80, IMG_SIZE, IMG_SIZE, 3)).astype("float32")
y = tf.keras.utils.to_categorical(np.random.randint(0, NUM_CLASSES, size=80), NUM_CLASSES)
X_train, X_val = X[:64], X[64:]
y_train, y_val = y[:64], y[64:]


# In[3]:


train_gen = ImageDataGenerator(rotation_range=20, zoom_range=0.15, horizontal_flip=True)
val_gen = ImageDataGenerator()


# In[4]:


base = EfficientNetB0(include_top=False, weights=None, input_shape=(IMG_SIZE, IMG_SIZE, 3))
x = base.output
x = GlobalAveragePooling2D()(x)
x = Dense(256, activation='relu')(x)
x = Dropout(0.5)(x)
out = Dense(NUM_CLASSES, activation='softmax')(x)
model = Model(inputs=base.input, outputs=out)
model.summary()


# In[5]:


model.compile(optimizer=Adam(learning_rate=1e-4), loss='categorical_crossentropy', metrics=['accuracy'])

callbacks = [
    ReduceLROnPlateau(monitor='val_loss', factor=0.2, patience=3, min_lr=1e-7, verbose=1),
    EarlyStopping(monitor='val_loss', patience=6, restore_best_weights=True),
    ModelCheckpoint('effnet_flowers.keras', save_best_only=True),
]


# In[6]:


history = model.fit(
    train_gen.flow(X_train, y_train, batch_size=BS),
    validation_data=val_gen.flow(X_val, y_val, batch_size=BS),
    steps_per_epoch=len(X_train) // BS,
    epochs=EPOCHS,
    callbacks=callbacks,
)


# In[7]:


import matplotlib.pyplot as plt

plt.plot(history.history['accuracy'])
plt.plot(history.history['val_accuracy'])
plt.show()
