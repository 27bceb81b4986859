#!/usr/bin/env python
# coding: utf-8

# ## Titanic - simple neural net baseline
# (Kaggle notebook; feature engineering cells trimmed)

# In[1]:


import numpy as np
import tensorflow as tf
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense, Dropout, BatchNormalization
from tensorflow.keras.optimizers import Adam
from tensorflow.keras.callbacks import EarlyStopping

SEED = 42
np.random.seed(SEED)
tf.random.set_seed(SEED)


# In[2]:


# train = pd.read_csv('/kaggle/input/titanic/train.csv')
X = np.random.rand(891, 10).astype('float32')
y = (np.random.rand(891) > 0.62).astype('float32')
print(X.shape, y.mean())


# In[3]:


model = Sequential()
model.add(Dense(256, input_dim=X.shape[1], activation='relu'))
model.add(BatchNormalization())
model.add(Dropout(0.3))
model.add(Dense(128, activation='relu'))
model.add(BatchNormalization())
model.add(Dropout(0.3))
model.add(Dense(1, activation='sigmoid'))

model.compile(optimizer=Adam(learning_rate=0.01), loss='binary_crossentropy', metrics=['accuracy'])
model.summary()


# In[4]:


es = EarlyStopping(monitor='val_loss', patience=10, restore_best_weights=True)
history = model.fit(X, y, epochs=100, batch_size=8, validation_split=0.2, callbacks=[es], verbose=2)


# In[5]:


print('best val acc', max(history.history['val_accuracy']))
