# Train a small CNN on MNIST then compute saliency maps (Keras 2.2 / TF1 era code)
import numpy as np
import keras
from keras import backend as K
from keras.models import Model
from keras.layers import Input, Conv2D, MaxPooling2D, Flatten, Dense, Dropout
from keras.optimizers import Adam
from keras.utils import to_categorical

batch_size = 128
num_classes = 10
epochs = 12

x_train = np.random.rand(1000, 28, 28, 1).astype('float32')
y_train = to_categorical(np.random.randint(0, num_classes, 1000), num_classes)

inp = Input(shape=(28, 28, 1))
x = Conv2D(32, (3, 3), activation='relu', kernel_initializer='he_normal')(inp)
x = Conv2D(64, (3, 3), activation='relu', kernel_initializer='he_normal')(x)
x = MaxPooling2D(pool_size=(2, 2))(x)
x = Dropout(0.25)(x)
x = Flatten()(x)
x = Dense(128, activation='relu', kernel_initializer='he_normal')(x)
x = Dropout(0.5)(x)
out = Dense(num_classes, activation='softmax', name='preds')(x)
model = Model(inp, out)

model.compile(loss=keras.losses.categorical_crossentropy,
              optimizer=Adam(lr=0.01),
              metrics=['accuracy'])
model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, verbose=1)

# ---- saliency -------------------------------------------------------------
class_idx = 3
loss = model.output[:, class_idx]
grads = K.gradients(loss, model.input)[0]
grads /= (K.sqrt(K.mean(K.square(grads))) + 1e-5)
saliency_fn = K.function([model.input, K.learning_phase()], [loss, grads])
loss_value, grads_value = saliency_fn([x_train[:1], 0])
print(loss_value, np.abs(grads_value).max())
