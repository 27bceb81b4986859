#!/usr/bin/env python
# coding: utf-8

# # Digit Recognizer: CNN + quick logistic-regression baseline
# Kaggle kernel, "top 5%" version.

# In[1]:


import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras.layers import Conv2D, MaxPool2D, Dense, Dropout, Flatten
from tensorflow.keras.callbacks import ReduceLROnPlateau

# train = pd.read_csv("../input/digit-recognizer/train.csv")
X_train = np.random.rand(4200, 28, 28, 1).astype("float32")
Y_train = np.random.randint(0, 10, size=(4200,))


# In[2]:


# baseline: multinomial logistic regression
baseline = keras.Sequential([keras.Input((28, 28, 1)), Flatten(), Dense(10)])
baseline.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
baseline.fit(X_train, Y_train, epochs=5, batch_size=256)


# In[3]:


model = keras.Sequential()
model.add(keras.Input((28, 28, 1)))
model.add(Conv2D(filters=32, kernel_size=(5, 5), padding='Same', activation='relu', kernel_initializer='he_uniform'))
model.add(Conv2D(filters=32, kernel_size=(5, 5), padding='Same', activation='relu', kernel_initializer='he_uniform'))
model.add(MaxPool2D(pool_size=(2, 2)))
model.add(Dropout(0.25))
model.add(Conv2D(filters=64, kernel_size=(3, 3), padding='Same', activation='relu', kernel_initializer='he_uniform'))
model.add(Conv2D(filters=64, kernel_size=(3, 3), padding='Same', activation='relu', kernel_initializer='he_uniform'))
model.add(MaxPool2D(pool_size=(2, 2), strides=(2, 2)))
model.add(Dropout(0.25))
model.add(Flatten())
model.add(Dense(256, activation="relu", kernel_initializer='he_uniform'))
model.add(Dropout(0.6))
model.add(Dense(10, activation="softmax"))

optimizer = keras.optimizers.RMSprop(learning_rate=0.01, rho=0.9, epsilon=1e-08)
model.compile(optimizer=optimizer,
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])

learning_rate_reduction = ReduceLROnPlateau(monitor='val_accuracy', patience=3, verbose=1,
                                            factor=0.5, min_lr=0.00001)

# In[4]:


history = model.fit(X_train, Y_train, batch_size=86, epochs=30, validation_split=0.1,
                    callbacks=[learning_rate_reduction], verbose=2)
